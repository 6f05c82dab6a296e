// Package proto holds the guest protocol's .proto files and the Go code generated from them.
// Regenerate with `go generate ./proto` (needs protoc; the Go plugins are pinned as go tools).
package proto

//go:generate sh -c "protoc -I . --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-connect-go=$(go tool -n protoc-gen-connect-go) --go_out=. --go_opt=paths=source_relative --connect-go_out=. --connect-go_opt=paths=source_relative process/process.proto filesystem/filesystem.proto"
