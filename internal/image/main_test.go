package image_test

import (
	"os"
	"testing"

	"github.com/paddock/paddock/internal/testenv"
)

// TestMain removes the paddock binary that the server tests build.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
