# Generated from tiny.yaml (config digest 6623908725124486) by scripts/generate.py.
# Do not edit: change the YAML and run `make generate`.
set CONFIG_NAME tiny
set PART xczu9eg-ffvb1156-2-e
set CLOCK_PERIOD_NS 3.3333
