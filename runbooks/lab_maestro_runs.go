package runbooks

// Run files of the maestro scenario: roles, parameters, and answers that perform the
// manual steps with the lab's simulated tools, as an operator would by hand.

const moveLUIRun = `# Practice run of maestro/move-lui in the cutover lab (simulated hosts): the User
# Interface moves from lui to spare with the internal database. The answers perform
# the manual steps with the lab's simulated Hub backup and installer.
# The external-database branch: --set database=external --set db_host=db.maestro.lab
runbook: maestro/move-lui
inventory: ../inventory.yaml
roles:
  old: lui
  new: spare
  hub: hub
  trk: trk
params:
  database: internal
  hosted_lists: false
  # Outside the install folder, inside the simulated host's own folder.
  restore_dir: "{{ .Hosts.spare.Root }}/var/tmp/lui-restore"
answers:
  trigger-backup:
    run: {role: hub, command: "maestro-backup"}
  stop-listserv:
    confirm: true
  install-fresh:
    run: {role: new, command: "maestro-setup install --components lui --mysql"}
  install-add:
    run: {role: new, command: "maestro-setup add lui --mysql"}
  add-db-driver:
    confirm: true
  uninstall-old-lui:
    phrase: "UNINSTALL LUI ON lui"
    run: {role: old, command: "maestro-setup remove lui"}
  repoint-listserv:
    confirm: true
`

const moveTrackerRun = `# Practice run of maestro/move-tracker in the cutover lab (simulated hosts): the
# Tracker moves from trk to spare and keeps its name, whose DNS record is pointed at
# spare (lab-dns stands in for the DNS administrator). For the other choice:
# --set old_name=accept-loss (the answers type the phrase).
runbook: maestro/move-tracker
inventory: ../inventory.yaml
roles:
  old: trk
  new: spare
  lui: lui
  hub: hub
  operator: ops
params:
  old_name: repoint-dns
  # The lab's zone answers as its own name server (bin/dig on ops).
  dns_server: ns.maestro.lab
answers:
  accept-loss:
    phrase: "LOSE TRACKING FOR trk.maestro.lab"
  plan-dns:
    confirm: true
  stop-listserv:
    confirm: true
  install-fresh:
    run: {role: new, command: "maestro-setup install --components trk"}
  install-add:
    run: {role: new, command: "maestro-setup add trk"}
  repoint-dns:
    run: {role: operator, command: "lab-dns set trk.maestro.lab ` + ipSpare + `"}
  uninstall-old-trk:
    phrase: "UNINSTALL TRK ON trk"
    run: {role: old, command: "maestro-setup remove trk"}
  tracking-host:
    confirm: true
  dns-follow-up:
    confirm: true
`

const moveDatabaseRun = `# Practice run of maestro/move-database in the cutover lab (simulated hosts): the
# external system database moves from db to db2. The lab's database servers are only
# ports that accept connections, so the move itself is confirmed.
runbook: maestro/move-database
inventory: ../inventory.yaml
roles:
  lui: lui
  hub: hub
  trk: trk
params:
  old_db_host: db.maestro.lab
  new_db_host: db2.maestro.lab
  new_db_port: 3306
answers:
  move-database:
    confirm: true
  reapply-db-config:
    skip: "the practice lab's database has no special settings"
`

const proxyAliasesRun = `# Practice run of maestro/proxy-aliases in the cutover lab (simulated hosts): the
# manual's first example (maestro.sample.com split by ports 9001-9003) on the lab's
# simulated nginx. The second example: --preset example-2-three-names.
runbook: maestro/proxy-aliases
inventory: ../inventory.yaml
preset: example-1-one-name
roles:
  lui: lui
  hub: hub
  trk: trk
  proxy: proxy
  operator: ops
params:
  proxy_conf: "{{ .Hosts.proxy.Root }}/etc/nginx/conf.d/maestro.conf"
answers:
  tracking-url:
    confirm: true
  configure-proxy:
    confirm: true
  install-proxy-config:
    confirm: true
`
