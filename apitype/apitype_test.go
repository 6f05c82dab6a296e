package apitype_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestEveryFieldHasAJSONTag reads this package's source: every field of every struct names
// its JSON key, so that renaming a Go field can never change the wire. An embedded field
// (flattened by encoding/json) must be another type of this package, whose fields are
// checked in turn.
func TestEveryFieldHasAJSONTag(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	structs := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			structs++
			for _, f := range st.Fields.List {
				if len(f.Names) == 0 {
					if _, local := f.Type.(*ast.Ident); !local {
						t.Errorf("%s: embedded field %s is not a type of this package", ts.Name, types(f.Type))
					}
					continue
				}
				tag := ""
				if f.Tag != nil {
					raw, _ := strconv.Unquote(f.Tag.Value)
					tag = reflect.StructTag(raw).Get("json")
				}
				name, _, _ := strings.Cut(tag, ",")
				if name == "" || name == "-" {
					t.Errorf("%s.%s (%s): no json name in its tag", ts.Name, f.Names[0], fset.Position(f.Pos()))
				}
			}
			return true
		})
	}
	if structs < 20 {
		t.Fatalf("found %d structs: is the test reading the package?", structs)
	}
}

func types(e ast.Expr) string {
	if s, ok := e.(*ast.SelectorExpr); ok {
		return types(s.X) + "." + s.Sel.Name
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return "?"
}
