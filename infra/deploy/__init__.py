"""Steps `pulumi up` runs on the deploying machine, outside the engine (through pulumi-command), with the
project's virtualenv: what no Pulumi resource does by itself."""
