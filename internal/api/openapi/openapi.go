// Package openapi builds an OpenAPI 3.1 document from a surface's operations, with JSON
// schemas derived by reflection from the Go types the handlers actually use, and serves it
// with an embedded interactive reference page.
package openapi

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Operation documents one route.
type Operation struct {
	Pattern     string // "POST /sandboxes/{name}/exec", as registered on the mux
	Tag         string
	Summary     string
	Description string
	Request     any      // a value of the request body type (nil = no body)
	Required    []string // required request fields
	Response    any      // a value of the success data type (nil = none)
	Status      int      // success status (default 200)
	Stream      bool
	Query       []Param
	Public      bool // needs no API key
}

// Param is a query parameter.
type Param struct {
	Name, Description, Type string
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

// Document returns the OpenAPI document for ops. envelope wraps success data the way the
// surface does (nil = bare).
func Document(title, version string, ops []Operation, envelope func(data map[string]any) map[string]any) map[string]any {
	paths := map[string]any{}
	for _, op := range ops {
		method, path, _ := strings.Cut(op.Pattern, " ")
		oasPath := pathParam.ReplaceAllString(path, "{$1}")
		item, _ := paths[oasPath].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[oasPath] = item
		}
		item[strings.ToLower(method)] = operation(op, path, envelope)
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": title, "version": version},
		"paths":   paths,
		"components": map[string]any{"securitySchemes": map[string]any{
			"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key"},
			"bearer": map[string]any{"type": "http", "scheme": "bearer"},
		}},
		"security": []any{map[string]any{"apiKey": []any{}}, map[string]any{"bearer": []any{}}},
	}
}

func operation(op Operation, path string, envelope func(map[string]any) map[string]any) map[string]any {
	o := map[string]any{"summary": op.Summary, "tags": []string{op.Tag}, "operationId": operationID(op.Pattern)}
	if op.Description != "" {
		o["description"] = op.Description
	}
	if op.Public {
		o["security"] = []any{}
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range op.Query {
		params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type}})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Request != nil {
		schema := SchemaOf(reflect.TypeOf(op.Request))
		if len(op.Required) > 0 {
			schema["required"] = op.Required
		}
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": schema}}}
	}
	status := op.Status
	if status == 0 {
		status = 200
	}
	var content map[string]any
	switch {
	case op.Stream:
		content = map[string]any{"text/event-stream": map[string]any{"schema": map[string]any{"type": "string",
			"description": "server-sent events: started, progress, output, done, error"}}}
	default:
		data := map[string]any{}
		if op.Response != nil {
			data = SchemaOf(reflect.TypeOf(op.Response))
		}
		if envelope != nil {
			data = envelope(data)
		}
		content = map[string]any{"application/json": map[string]any{"schema": data}}
	}
	o["responses"] = map[string]any{
		strconv.Itoa(status): map[string]any{"description": "success", "content": content},
		"default":            map[string]any{"description": "error: 400 bad input, 401 no valid key, 404 unknown, 409 wrong state, 413 too large, 500"},
	}
	return o
}

func operationID(pattern string) string {
	id := strings.NewReplacer(" /", "_", "/", "_", "{", "", "}", "", ".", "").Replace(pattern)
	return strings.ToLower(id)
}

var timeType = reflect.TypeOf(time.Time{})

// SchemaOf derives a JSON schema from a Go type, following encoding/json's rules for names,
// omitempty and embedded structs.
func SchemaOf(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return map[string]any{"type": "string", "contentEncoding": "base64"}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return map[string]any{"type": "array", "items": SchemaOf(t.Elem())}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": SchemaOf(t.Elem())}
	case t.Kind() == reflect.Struct:
		props := map[string]any{}
		addFields(t, props)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func addFields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = SchemaOf(f.Type)
	}
}
