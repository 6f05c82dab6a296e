package sandcaster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Limits of skills.
const (
	skillsSubdir   = ".skills" // in the workspace: .skills/<name>/SKILL.md
	maxSkills      = 50
	maxSkillBytes  = 256 << 10
	maxSkillsBytes = 2 << 20
)

// skillName is upstream's NAME_PATTERN.
var skillName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// skill is a SKILL.md: instructions the agent reads when its description fits the task.
type skill struct {
	Name, Description, Content string
}

// loadSkills reads dir's skills: each subdirectory with a SKILL.md is one, named by its
// front matter's name (else the directory). Other files are not uploaded.
func loadSkills(dir string) ([]skill, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("skillsDir: %w", err)
	}
	var out []skill
	total := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name(), "SKILL.md")
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("skillsDir: %w", err)
		}
		if info.Size() > maxSkillBytes {
			return nil, fmt.Errorf("skillsDir: %s is larger than %d bytes", p, maxSkillBytes)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("skillsDir: %w", err)
		}
		s := parseSkill(e.Name(), string(b))
		if !skillName.MatchString(s.Name) {
			return nil, fmt.Errorf("skillsDir: %s: skill name %q must match [a-zA-Z0-9_-]+", p, s.Name)
		}
		total += len(b)
		out = append(out, s)
	}
	switch {
	case len(out) > maxSkills:
		return nil, fmt.Errorf("skillsDir: %d skills (max %d)", len(out), maxSkills)
	case total > maxSkillsBytes:
		return nil, fmt.Errorf("skillsDir: %d bytes of skills (max %d)", total, maxSkillsBytes)
	}
	return out, nil
}

// parseSkill reads the name and description of a SKILL.md's front matter (--- lines of
// "key: value" at its top), if it has one.
func parseSkill(name, content string) skill {
	s := skill{Name: name, Content: content}
	rest, ok := strings.CutPrefix(content, "---\n")
	if !ok {
		return s
	}
	head, _, ok := strings.Cut(rest, "\n---")
	if !ok {
		return s
	}
	for _, line := range strings.Split(head, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.TrimSpace(k) {
		case "name":
			if v != "" {
				s.Name = v
			}
		case "description":
			s.Description = v
		}
	}
	return s
}

// checkExtraSkills applies upstream's name rule and Paddock's size limits to a request's
// extraSkills.
func checkExtraSkills(extra map[string]string) error {
	total := 0
	for name, content := range extra {
		if !skillName.MatchString(name) {
			return fieldErr("extraSkills", "skill name %q must match [a-zA-Z0-9_-]+", name)
		}
		total += len(content)
	}
	if len(extra) > maxSkills {
		return fieldErr("extraSkills", "%d skills (max %d)", len(extra), maxSkills)
	}
	if total > maxSkillsBytes {
		return fieldErr("extraSkills", "%d bytes of skills (max %d)", total, maxSkillsBytes)
	}
	return nil
}

// skillsFor are a run's skills: the config's and the request's extraSkills (which win on a
// name), narrowed to allowedSkills when given. An allowed name that is no skill is refused.
func (a *API) skillsFor(req *queryRequest) ([]skill, error) {
	byName := map[string]skill{}
	for _, s := range a.opts.Config.skillList() {
		byName[s.Name] = s
	}
	for name, content := range req.ExtraSkills {
		s := parseSkill(name, content)
		s.Name = name
		byName[name] = s
	}
	if req.AllowedSkills != nil {
		allowed := map[string]skill{}
		for i, n := range req.AllowedSkills {
			s, ok := byName[n]
			if !ok {
				return nil, fieldErr("allowedSkills", "[%d]: no skill %q (skills: %s)", i, n, strings.Join(skillNames(byName), ", "))
			}
			allowed[n] = s
		}
		byName = allowed
	}
	out := make([]skill, 0, len(byName))
	for _, n := range skillNames(byName) {
		out = append(out, byName[n])
	}
	return out, nil
}

func skillNames(m map[string]skill) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// skillFiles are the skills as workspace files.
func skillFiles(skills []skill) map[string]string {
	files := make(map[string]string, len(skills))
	for _, s := range skills {
		files[path.Join(skillsSubdir, s.Name, "SKILL.md")] = s.Content
	}
	return files
}

// skillsPrompt tells the model which skills there are and where to read them ("" for none).
func skillsPrompt(dir string, skills []skill) string {
	if len(skills) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Skills: instructions for particular tasks. Before such a task, read the skill's file.\n")
	for _, s := range skills {
		fmt.Fprintf(&b, "- %s (%s)", s.Name, path.Join(dir, skillsSubdir, s.Name, "SKILL.md"))
		if s.Description != "" {
			fmt.Fprintf(&b, ": %s", s.Description)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
