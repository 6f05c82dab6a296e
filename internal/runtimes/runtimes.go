// Package runtimes lists the built-in runtimes of Trinity agents (claude-code, gemini-cli,
// shell): the image each is made from, the CLI it runs and its defaults. The images are built
// by scripts/build-runtime-image.sh and imported by an admin (docs/trinity.md, "Runtimes").
package runtimes

// Runtime is a template for agents: what image their sandbox runs, as whom, and how the
// runtime's CLI is called.
type Runtime struct {
	Name        string
	Description string
	// Image is the reference the admin imports the built image as
	// (`paddock image import OUT.tar <Image>`).
	Image string
	// Script is the argument of scripts/build-runtime-image.sh that builds the image.
	Script string
	// User runs the agent's processes; Home is its home, where the workspace volume mounts.
	User, Home string
	// CLI is the runtime's command ("claude"); PromptArgs the arguments before a prompt that
	// make it answer one prompt and exit (schedules and runs send prompts this way). Empty
	// for the shell runtime, whose "prompt" is a shell command run with sh -c.
	CLI        string
	PromptArgs []string
	// StartCmd is the sandbox's start command: none, the guest keeps the sandbox up and
	// the CLI runs per session or prompt.
	StartCmd []string
	// Env is non-secret environment for every process of the agent.
	Env map[string]string
	// KeyEnv names the environment variables the model key may be given in. The key is a
	// credential injected when the agent starts, never part of the image.
	KeyEnv []string
	// CPU and Memory are the default resources, in Trinity's form ({"cpu": "2", "memory": "4g"}).
	CPU, Memory string
	// Model is the default runtime_model ("" = the CLI's own default).
	Model string
}

// Builtin are the runtimes every server offers; agents name them in `runtime` (or
// `template`) on create.
var Builtin = []Runtime{
	{Name: "claude-code", Description: "Anthropic's Claude Code CLI (@anthropic-ai/claude-code) on Node.js",
		Image: "paddock/claude-code:latest", Script: "claude-code", User: "developer", Home: "/home/developer",
		CLI: "claude", PromptArgs: []string{"--print"},
		Env:    map[string]string{"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"},
		KeyEnv: []string{"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"}, CPU: "2", Memory: "4g"},
	{Name: "gemini-cli", Description: "Google's Gemini CLI (@google/gemini-cli) on Node.js",
		Image: "paddock/gemini-cli:latest", Script: "gemini-cli", User: "developer", Home: "/home/developer",
		CLI: "gemini", PromptArgs: []string{"--prompt"},
		KeyEnv: []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}, CPU: "2", Memory: "4g"},
	{Name: "shell", Description: "bash and busybox, no model",
		Image: "paddock/shell:latest", Script: "shell", User: "developer", Home: "/home/developer",
		CPU: "1", Memory: "1g"},
}

// Lookup returns the built-in runtime called name.
func Lookup(name string) (Runtime, bool) {
	for _, r := range Builtin {
		if r.Name == name {
			return r, true
		}
	}
	return Runtime{}, false
}
