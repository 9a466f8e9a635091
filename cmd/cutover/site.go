package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// siteOptions are the root's flags for the site's runbook folders.
type siteOptions struct {
	dirs        []string
	allowShadow bool
	loaded      *runbooks.Catalog
	err         error
}

// addSiteFlags gives every command --runbooks DIR and --allow-shadow.
func addSiteFlags(root *cobra.Command, e *env) {
	f := root.PersistentFlags()
	f.StringArrayVar(&e.site.dirs, "runbooks", nil, "a folder of site runbooks, lab scenarios and component declarations, searched before CUTOVER_RUNBOOKS, ./runbooks and the config folder's cutover/runbooks (repeatable)")
	f.BoolVar(&e.site.allowShadow, "allow-shadow", false, "let a site runbook replace a shipped one of the same id (with a warning)")
}

// catalog is every runbook on the search path, read once per command: the shipped ones
// and the site's. The site's component declarations are declared to the probe, and
// warnings (a shadowed id) go to stderr. A site folder with a broken file is bad input.
func (e *env) catalog() (*runbooks.Catalog, error) {
	if e.site.loaded == nil && e.site.err == nil {
		c, err := runbooks.Load(runbooks.LoadOptions{
			SearchPathOptions: runbooks.SearchPathOptions{Dirs: e.site.dirs},
			AllowShadow:       e.site.allowShadow,
		})
		for _, w := range c.Warnings {
			fmt.Fprintf(e.stderr, "cutover: warning: %s\n", w)
		}
		probe.Declare(c.Components)
		e.site.loaded = c
		if err != nil {
			e.site.err = badInput{err}
		}
	}
	return e.site.loaded, e.site.err
}

// runbook finds a runbook by id on the search path, or by file name.
func (e *env) runbook(id string) (*steps.Runbook, error) {
	c, err := e.catalog()
	if err != nil {
		return nil, err
	}
	return c.Get(id)
}

// scenario is the practice-lab scenario called name: a shipped one, a site's on the
// search path (NAME.lab.yaml), or a scenario file.
func (e *env) scenario(name string) (*lab.Scenario, error) {
	if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
		if c, _ := e.catalog(); c != nil {
			if p, ok := c.Scenarios[name]; ok {
				return runbooks.ScenarioFile(p, time.Now())
			}
		}
	}
	return runbooks.Scenario(name, time.Now())
}
