package native

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/paddock/paddock/internal/template"
)

// TestTemplateConversionKeepsEveryField: a template with every field set survives the trip
// to apitype and back, and both encode alike. A field added to template.Template but not to
// apitype.Template (or to the conversions) fails here.
func TestTemplateConversionKeepsEveryField(t *testing.T) {
	var tp template.Template
	fillAll(reflect.ValueOf(&tp).Elem())
	if back := fromTemplate(toTemplate(tp, "file")); !reflect.DeepEqual(back, tp) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, tp)
	}
	domain, _ := json.Marshal(tp)
	wire, _ := json.Marshal(toTemplate(tp, ""))
	if string(domain) != string(wire) {
		t.Errorf("encodings differ:\ntemplate.Template %s\napitype.Template  %s", domain, wire)
	}
}

// fillAll sets every field reachable from v to a value that is not empty.
func fillAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			fillAll(v.Field(i))
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillAll(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillAll(k)
		fillAll(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		panic("fillAll: no value for " + v.Type().String())
	}
}
