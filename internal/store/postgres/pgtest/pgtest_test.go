package pgtest

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestStartAndCleanUp starts a server, uses a database, and checks that the test's cleanup
// stopped the process and removed its directory.
func TestStartAndCleanUp(t *testing.T) {
	var srv *Server
	t.Run("use", func(t *testing.T) {
		srv = Start(t)
		if srv.PID == 0 {
			t.Skipf("%s names an external server: nothing to clean up", Env)
		}
		db := srv.NewSchema(t)
		c, err := pgx.Connect(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		var user, addr string
		if err := c.QueryRow(context.Background(), `SELECT current_user, host(inet_server_addr())`).Scan(&user, &addr); err != nil {
			t.Fatal(err)
		}
		if user != "paddock" || addr != "127.0.0.1" {
			t.Errorf("connected as %s to %s, want paddock on 127.0.0.1", user, addr)
		}
	})
	if srv == nil || srv.PID == 0 {
		return
	}
	if err := syscall.Kill(srv.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres (pid %d) still there after the test: %v", srv.PID, err)
	}
	if _, err := os.Stat(srv.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after the test: %v", srv.Dir, err)
	}
}

// TestExternalServer: with PADDOCK_TEST_POSTGRES set, Start uses that server (here, one
// started for the test) instead of starting another.
func TestExternalServer(t *testing.T) {
	own := Start(t)
	t.Setenv(Env, own.URL)
	srv := Start(t)
	if srv.URL != own.URL || srv.PID != 0 {
		t.Fatalf("with %s set, Start gave %+v", Env, srv)
	}
	c, err := pgx.Connect(context.Background(), srv.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	c.Close(context.Background())
}

func TestMissingBinariesSayWhatToInstall(t *testing.T) {
	_, err := findBin(t.TempDir() + "/*/bin")
	if err == nil || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("no binaries: %v, want the apt-get command", err)
	}
}
