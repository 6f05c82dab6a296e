// Package sandbox is Paddock's domain: what a sandbox is, its lifecycle states, and the
// interfaces (Driver, Store, ImageResolver) that the implementations below it satisfy.
// Nothing in this package knows about runc, SQLite or HTTP.
package sandbox
