package inventory

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/probe/yamlpos"
)

// Where an Ansible inventory comes from: one file (INI, YAML, or the JSON that
// ansible-inventory --list prints), a folder of such files read as one inventory, or
// the output of ansible-inventory run on a source cutover cannot read itself (a
// dynamic inventory script or plugin configuration), when the operator asks for that
// with "ansible-inventory:SOURCE". group_vars/ and host_vars/ beside a file, or in a
// folder, add their variables (ansible_vars.go).

// AnsibleInventoryPrefix asks Load to run ansible-inventory -i SOURCE --list and read
// its output: cutover runs no inventory script or plugin unless told to this way.
const AnsibleInventoryPrefix = "ansible-inventory:"

// ansibleInventoryTimeout bounds a run of ansible-inventory (a dynamic inventory may
// ask a cloud API).
const ansibleInventoryTimeout = 2 * time.Minute

// ansibleSource is one file of an Ansible inventory.
type ansibleSource struct {
	file   string
	data   []byte
	format Format
}

// loadAnsible reads the sources as one inventory named name, with group_vars and
// host_vars from base (when varsDirs), and builds its hosts. check, when set, vets
// each variable file and folder before it is read (LoadImplicit).
func loadAnsible(name, base string, srcs []ansibleSource, varsDirs bool, check func(string) error) (*Inventory, error) {
	a := newAnsInv(name, base)
	a.check = check
	for _, s := range srcs {
		a.record(s.file, s.data)
		a.cur = s.file
		switch s.format {
		case FormatAnsibleINI:
			a.readINI(s.file, s.data)
		case FormatAnsibleYAML:
			a.readYAML(s.file, s.data)
		case FormatAnsibleJSON:
			a.readJSON(s.file, s.data)
		}
	}
	a.expandHosts()
	a.placeGroups()
	if varsDirs {
		a.readVarsDirs(base)
	}
	return a.build()
}

// ignoredInInventoryDir reports the names Ansible skips in an inventory folder: hidden
// files, its variable folders, and the extensions of backups, notes and leftovers.
func ignoredInInventoryDir(name string) bool {
	if strings.HasPrefix(name, ".") || name == "group_vars" || name == "host_vars" {
		return true
	}
	for _, ext := range []string{".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// loadAnsibleDir reads every inventory file of dir, in name order, as one inventory,
// with dir's group_vars and host_vars. A file of another form (cutover's YAML, an
// ssh_config), an executable (a dynamic inventory script) or a subfolder is an error:
// each is a source Ansible would read differently or run.
func loadAnsibleDir(dir string) (*Inventory, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	var srcs []ansibleSource
	var errs yamlpos.List
	for _, e := range entries {
		name := e.Name()
		if ignoredInInventoryDir(name) {
			continue
		}
		p := filepath.Join(dir, name)
		pos := yamlpos.Pos{File: p}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			errs.Add(pos, "%v", err)
			continue
		case fi.IsDir():
			errs.Add(pos, "a folder inside an inventory folder: cutover reads the files of one folder (move it out, or give its files with -i)")
			continue
		case fi.Mode()&0o111 != 0:
			errs.Add(pos, "an executable file (a dynamic inventory script?): cutover does not run inventory scripts by itself; "+
				"give -i %s%s to have ansible-inventory run it, or clear its execute bits", AnsibleInventoryPrefix, p)
			continue
		}
		data, err := yamlpos.ReadFile(p)
		if err != nil {
			errs.Add(pos, "%v", err)
			continue
		}
		if isVault(data) {
			errs.Add(yamlpos.Pos{File: p, Line: 1, Col: 1}, "%s", vaultMessage)
			continue
		}
		f := Detect(data)
		if f != FormatAnsibleINI && f != FormatAnsibleYAML && f != FormatAnsibleJSON {
			errs.Add(yamlpos.Pos{File: p, Line: 1, Col: 1}, "a %s file in an Ansible inventory folder: only Ansible INI, YAML and JSON inventories may be combined", f)
			continue
		}
		srcs = append(srcs, ansibleSource{file: p, data: data, format: f})
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("inventory: the folder %s holds no inventory file", dir)
	}
	return loadAnsible(dir, dir, srcs, true, nil)
}

// loadAnsibleInventory runs ansible-inventory -i source --list and reads its JSON. The
// variables are the ones ansible-inventory merged (group_vars and host_vars of the
// source included); relative file names in them are relative to the current folder,
// as for Ansible.
func loadAnsibleInventory(source string) (*Inventory, error) {
	if source == "" {
		return nil, fmt.Errorf("inventory: %sSOURCE needs a source, such as %sinventory/aws_ec2.yml", AnsibleInventoryPrefix, AnsibleInventoryPrefix)
	}
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		return nil, fmt.Errorf("inventory: %s%s: ansible-inventory is not installed here (%v); run it where it is and give cutover its output: ansible-inventory -i %s --list > inventory.json", AnsibleInventoryPrefix, source, err, source)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ansibleInventoryTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-i", source, "--list")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &cappedBuffer{buf: &stdout, max: yamlpos.MaxFileSize + 1}
	cmd.Stderr = &cappedBuffer{buf: &stderr, max: 64 << 10}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %v", ansibleInventoryTimeout)
		}
		return nil, fmt.Errorf("inventory: ansible-inventory -i %s --list: %v: %s", source, err, strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() > yamlpos.MaxFileSize {
		return nil, fmt.Errorf("inventory: ansible-inventory -i %s --list printed more than %d MiB, the most cutover reads", source, yamlpos.MaxFileSize>>20)
	}
	name := "ansible-inventory -i " + source + " --list"
	cwd, _ := os.Getwd()
	return loadAnsible(name, cwd, []ansibleSource{{file: name, data: stdout.Bytes(), format: FormatAnsibleJSON}}, false, nil)
}

// cappedBuffer keeps the first max bytes written to it, and takes the rest without
// keeping it.
type cappedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// isVault reports a file encrypted with ansible-vault.
func isVault(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("$ANSIBLE_VAULT;"))
}

// vaultMessage refuses a vault-encrypted file.
const vaultMessage = "encrypted with Ansible Vault: cutover cannot decrypt vault files; decrypt it (ansible-vault decrypt), " +
	"or keep the secrets it holds elsewhere (a sudo password can come from CUTOVER_BECOME_PASSWORD or a prompt)"
