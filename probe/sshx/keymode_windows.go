package sshx

// privateKeyMode checks nothing on Windows, where access is a matter of ACLs that
// Windows' OpenSSH checks itself; cutover reads the file as the operator.
func privateKeyMode(string) error { return nil }
