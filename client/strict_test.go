package client_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/server/servertest"
)

// TestRequestsAreStrict sends every request body of the native API with every field set:
// the server knows each field (whatever else it says about the values), and still refuses a
// field it does not know.
func TestRequestsAreStrict(t *testing.T) {
	s := servertest.New(t)
	if code, env := s.Native("POST", "/sandboxes", map[string]any{"name": "box"}); code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	file := "/sandboxes/box/files" + servertest.Dir(t) + "/f"
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/sandboxes", &apitype.CreateRequest{}},
		{"POST", "/sandboxes/box/exec", &apitype.ExecRequest{}},
		{"POST", "/sandboxes/box/exec/stream", &apitype.ExecRequest{}},
		{"POST", "/sandboxes/box/extend", &apitype.ExtendRequest{}},
		{"PUT", "/sandboxes/box/network", &apitype.NetworkPolicy{}},
		{"PUT", file, &apitype.FileWrite{}},
		{"POST", "/run", &apitype.RunRequest{}},
		{"POST", "/run/stream", &apitype.RunRequest{}},
		{"POST", "/batch/run", &apitype.BatchRequest{}},
		{"POST", "/images/pull", &apitype.PullRequest{}},
		{"PUT", "/templates", &[]apitype.Template{}},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			fill(reflect.ValueOf(c.body).Elem())
			raw, err := json.Marshal(c.body)
			if err != nil {
				t.Fatal(err)
			}
			// Every field is in the body: none is left out as empty.
			if missing := missingKeys(raw, reflect.TypeOf(c.body).Elem()); len(missing) > 0 {
				t.Fatalf("fill left %v out of %s", missing, raw)
			}
			if _, answer := s.Do(servertest.Request{Method: c.method, Path: c.path, Body: raw}); strings.Contains(string(answer), "unknown field") {
				t.Errorf("every field set: %s\nanswer %s", raw, answer)
			}
			var body any // the same, plus a field no request has
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			obj := body
			if list, ok := body.([]any); ok {
				obj = list[0]
			}
			obj.(map[string]any)["bogus"] = 1
			resp, answer := s.Do(servertest.Request{Method: c.method, Path: c.path, Body: body})
			if resp.StatusCode != 400 || !strings.Contains(string(answer), `unknown field \"bogus\"`) {
				t.Errorf("with an unknown field: %d %s, want 400 naming it", resp.StatusCode, answer)
			}
		})
	}
}

// fill sets every field reachable from v to a value that is not empty.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// missingKeys lists the JSON names of typ's fields (embedded ones flattened, a slice's
// element for a slice) that raw's object lacks.
func missingKeys(raw []byte, typ reflect.Type) []string {
	var obj map[string]json.RawMessage
	if typ.Kind() == reflect.Slice {
		var list []map[string]json.RawMessage
		_ = json.Unmarshal(raw, &list)
		if len(list) > 0 {
			obj = list[0]
		}
		typ = typ.Elem()
	} else {
		_ = json.Unmarshal(raw, &obj)
	}
	var missing []string
	for _, f := range reflect.VisibleFields(typ) {
		if f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if _, ok := obj[name]; !ok {
			missing = append(missing, name)
		}
	}
	return missing
}
