// Package pgtest gives tests a real PostgreSQL: a throwaway server started from Debian's
// binaries in a temporary directory (or the server PADDOCK_TEST_POSTGRES names), and a fresh
// empty schema per caller.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/testenv"
)

// Env names an existing server to use instead of starting one: a postgres:// URL whose user
// may create databases.
const Env = "PADDOCK_TEST_POSTGRES"

// Component is the name PADDOCK_TEST_REQUIRE uses to make a missing PostgreSQL a failure.
const Component = "postgres"

// binGlob is where Debian's postgresql package puts the server's binaries.
const binGlob = "/usr/lib/postgresql/*/bin"

// Server is a PostgreSQL server tests may create databases on.
type Server struct {
	// URL reaches the server's maintenance database as a user who may create databases.
	URL string
	// Dir and PID are the started server's directory and process (empty for the server
	// PADDOCK_TEST_POSTGRES names).
	Dir string
	PID int
	// db is the URL of the database made for this Start; each NewSchema is a schema in it
	// (a schema takes milliseconds to make, a database hundreds).
	db   string
	seq  atomic.Int64
	stop func() error // stops the started server once; nil for an external one
	// stopped is set by Stop: the data went with the server, there is nothing to drop.
	stopped atomic.Bool
}

// Start returns a running server: the one PADDOCK_TEST_POSTGRES names, or a new one on
// 127.0.0.1 (a free port, its unix socket in its own directory) that t's cleanup stops (by
// PID) and removes. Without the binaries t skips, or fails when PADDOCK_TEST_REQUIRE names
// "postgres". As root, the server runs as the user nobody: initdb refuses root.
func Start(t testing.TB) *Server {
	t.Helper()
	if u := os.Getenv(Env); u != "" {
		s := &Server{URL: u}
		s.createDatabase(t)
		return s
	}
	bin, err := findBin(binGlob)
	if err != nil {
		testenv.Require(t, Component, err.Error())
	}
	cred, err := credential()
	if err != nil {
		testenv.Require(t, Component, err.Error())
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	password := randomHex(12)
	if err := initdb(bin, dir, password, cred); err != nil {
		t.Fatal(err)
	}
	// The kernel's free port may be taken before postgres binds it: try a few.
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s, err := start(t, bin, dir, port, password, cred)
		if err == nil {
			s.createDatabase(t)
			return s
		}
		if !errors.Is(err, errPortTaken) {
			t.Fatal(err)
		}
	}
	t.Fatal("pgtest: no free port after 3 tries")
	return nil
}

// findBin returns the newest installed server's bin directory among those glob matches.
func findBin(glob string) (string, error) {
	dirs, _ := filepath.Glob(glob)
	var found []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("PostgreSQL server binaries not found (%s/initdb): apt-get install postgresql", glob)
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) < version(found[j]) })
	return found[len(found)-1], nil
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// credential is who runs the server: nil (this user) unless this is root, which initdb and
// postgres refuse; then nobody, which needs no change to the system's users.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root and no user nobody to run PostgreSQL as (initdb refuses root): %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func command(bin, name, dir string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	return cmd
}

// initdb makes the cluster: superuser paddock, trusted on the unix socket, the password
// (SCRAM) over TCP, so that tests connect as an application would.
func initdb(bin, dir, password string, cred *syscall.Credential) error {
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	out, err := command(bin, "initdb", dir, cred, "-D", filepath.Join(dir, "data"), "-U", "paddock",
		"--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
		"--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

var errPortTaken = errors.New("port taken")

// start runs postgres on port and waits until it accepts connections. Durability is off
// (fsync, synchronous commit): the data is thrown away.
func start(t testing.TB, bin, dir string, port int, password string, cred *syscall.Credential) (*Server, error) {
	logPath := filepath.Join(dir, fmt.Sprintf("log-%d", port))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := command(bin, "postgres", dir, cred, "-D", filepath.Join(dir, "data"), "-p", strconv.Itoa(port),
		"-h", "127.0.0.1", "-k", dir, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &Server{Dir: dir, PID: cmd.Process.Pid, URL: (&url.URL{Scheme: "postgres", User: url.UserPassword("paddock", password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/postgres", RawQuery: "sslmode=disable"}).String()}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := s.ping(); err == nil {
			break
		} else if time.Now().After(deadline) {
			stop(cmd, exited)
			return nil, fmt.Errorf("postgres not ready after 30s: %v\n%s", err, readLog(logPath))
		}
		select {
		case err := <-exited:
			log := readLog(logPath)
			if strings.Contains(log, "could not bind") || strings.Contains(log, "Address already in use") {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("postgres exited: %v\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop = sync.OnceValue(func() error { return stop(cmd, exited) })
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stop postgres (pid %d): %v", cmd.Process.Pid, err)
		}
	})
	return s, nil
}

// stop asks postgres for a fast shutdown (SIGINT) and kills it if it is still there after
// 10 seconds.
func stop(cmd *exec.Cmd, exited chan error) error {
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		return errors.New("no fast shutdown in 10s: killed")
	}
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// Stop stops a server Start started, before the test ends (to see what clients do when
// the database goes away); it fails t for an external server, which it must not stop.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.stop == nil {
		t.Fatalf("pgtest: will not stop the server %s names", Env)
	}
	s.stopped.Store(true)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// createDatabase makes the database NewSchema works in, dropped when t ends.
func (s *Server) createDatabase(t testing.TB) {
	t.Helper()
	name := fmt.Sprintf("paddock_test_%d_%s", os.Getpid(), randomHex(4))
	s.exec(t, s.URL, `CREATE DATABASE `+name)
	t.Cleanup(func() {
		if !s.stopped.Load() {
			s.exec(t, s.URL, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		}
	})
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("%s: not a URL", Env)
	}
	u.Path = "/" + name
	s.db = u.String()
}

// NewSchema creates an empty schema, dropped when t ends, and returns a URL whose
// connections work in it (search_path): what a fresh database would be to a store.
func (s *Server) NewSchema(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("s%d_%s", s.seq.Add(1), randomHex(3))
	s.exec(t, s.db, `CREATE SCHEMA `+name)
	t.Cleanup(func() {
		if !s.stopped.Load() {
			s.exec(t, s.db, `DROP SCHEMA IF EXISTS `+name+` CASCADE`)
		}
	})
	u, _ := url.Parse(s.db)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Server) exec(t testing.TB, dbURL, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
