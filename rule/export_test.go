package rule

// linearsOf exposes the linears to tests of the feedback layout.
func (r *fa[T]) linearsOf() []linear[T] { return r.a.linears }
func (r *kp[T]) linearsOf() []linear[T] { return r.a.linears }
