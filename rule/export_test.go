package rule

import "github.com/faudit/faudit/model"

// linearsOf exposes the linears to tests of the feedback layout.
func (r *fa[T]) linearsOf() []model.Slot[T] { return r.a.slots }
func (r *kp[T]) linearsOf() []model.Slot[T] { return r.a.slots }
