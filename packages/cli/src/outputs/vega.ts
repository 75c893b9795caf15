/**
 * The parts of vega and vega-lite the plots use, in one module that the build replaces with a
 * single bundled file (scripts/bundle-vega.mjs). vega is some forty packages of ES modules:
 * importing them one by one took 370–600 ms of every training run's end, the bundle 120–190 ms.
 * Run from source (tests), this module simply re-exports the packages.
 */
export { View, parse } from 'vega';
export { compile } from 'vega-lite';
