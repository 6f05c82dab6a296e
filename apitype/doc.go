// Package apitype holds the request and response bodies of Paddock's native HTTP API (the
// routes at the root, docs/api.md), declared once for the server and for the Go client in
// package client. It imports nothing of the server, so any Go program can use it.
//
// The json tags are the wire: changing one changes what the server sends or accepts. Requests
// are decoded strictly (unknown fields are refused with 400); omitempty on a request field
// only shortens what the client sends.
package apitype
