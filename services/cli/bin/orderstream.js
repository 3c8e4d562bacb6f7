#!/usr/bin/env node
// The `orderstream` command (see `orderstream help`). Built code lives in ../dist.
import '../dist/main.js';
