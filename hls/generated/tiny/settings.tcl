# Generated from tiny.yaml (config digest 519f8a088e92f2a6) by scripts/generate.py.
# Do not edit: change the YAML and run `make generate`.
set CONFIG_NAME tiny
set PART xczu9eg-ffvb1156-2-e
set CLOCK_PERIOD_NS 3.3333
