// Package kernel holds the language harnesses the guest runs for code contexts: small
// programs, shipped inside the paddock binary, that keep one interpreter alive between cells.
//
// Protocol, the same for every language: the harness reads cells from fd 3, one JSON object
// per line ({"code": "...", "env": {...}}) or, for shell harnesses (Harness.ShellCells), two
// NUL-terminated fields: the cell's environment as "__pd_env NAME 'value'" lines, then the
// code. It runs each cell in its persistent interpreter with fd 1 and fd 2 as the cell's
// stdout and stderr, with the cell's environment set for that cell only (previous values
// come back afterwards), writes structured events to fd 4 as JSON lines ({"type":
// "result"|"error"|"done", ...}), and after each cell writes the sentinel from
// $PADDOCK_SENTINEL to fd 1 and fd 2, then the "done" event. SIGINT interrupts the running
// cell (reported as a KeyboardInterrupt error) and leaves the interpreter and its state alive.
package kernel

import (
	_ "embed"
	"sort"
	"strings"
)

//go:embed python.py
var pythonHarness string

//go:embed bash.sh
var bashHarness string

//go:embed javascript.js
var javascriptHarness string

// Harness describes how to start one language's harness.
type Harness struct {
	Language    string
	Interpreter string   // looked up in the sandbox's PATH
	Args        []string // arguments before nothing else: the harness source is among them
	// InterruptGroup sends the interrupt (SIGINT) to the harness's whole process group, so
	// that the cell's foreground command stops too (bash, whose background jobs ignore
	// SIGINT); otherwise only the interpreter gets it, as Jupyter does, and the children
	// a cell started keep running.
	InterruptGroup bool
	// ShellCells sends cells as shell text (see the package doc), which a shell reads and
	// runs without starting a process: a JSON or base64 decoder would be one per cell.
	ShellCells bool
}

var harnesses = map[string]Harness{
	"python": {Language: "python", Interpreter: "python3", Args: []string{"-u", "-c", pythonHarness}},
	"bash": {Language: "bash", Interpreter: "bash", Args: []string{"--noprofile", "--norc", "-c", bashHarness},
		InterruptGroup: true, ShellCells: true},
	// typescript shares the javascript kernel, as E2B's code interpreter does.
	"javascript": {Language: "javascript", Interpreter: "node", Args: []string{"-e", javascriptHarness}},
}

// aliases normalise language names as E2B's code interpreter does.
var aliases = map[string]string{"": "python", "py": "python", "python3": "python", "sh": "bash", "shell": "bash",
	"js": "javascript", "ts": "javascript", "typescript": "javascript", "node": "javascript"}

// Normalize lower-cases and trims a language name and resolves aliases.
func Normalize(lang string) string {
	l := strings.ToLower(strings.TrimSpace(lang))
	if a, ok := aliases[l]; ok {
		return a
	}
	return l
}

// Lookup returns the harness of a (normalised) language.
func Lookup(lang string) (Harness, bool) {
	h, ok := harnesses[Normalize(lang)]
	return h, ok
}

// Languages lists the supported languages.
func Languages() []string {
	out := make([]string, 0, len(harnesses))
	for l := range harnesses {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
