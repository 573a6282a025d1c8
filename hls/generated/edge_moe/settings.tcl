# Generated from edge_moe.yaml (config digest 778cf8013e54b9ee) by scripts/generate.py.
# Do not edit: change the YAML and run `make generate`.
set CONFIG_NAME edge_moe
set PART xczu9eg-ffvb1156-2-e
set CLOCK_PERIOD_NS 3.3333
