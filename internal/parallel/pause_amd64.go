package parallel

// pause executes the x86 PAUSE instruction: a spin-wait hint that saves power
// and frees the core's resources for a hyperthread sibling.
func pause()
