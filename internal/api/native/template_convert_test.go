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
