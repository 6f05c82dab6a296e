package runc_test

import (
	"os"
	"testing"

	"github.com/paddock/paddock/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
