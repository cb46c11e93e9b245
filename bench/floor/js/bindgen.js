// Entry for the wasm-bindgen variants: the glue's init and the exported class, nothing else.
// "floor-glue" is aliased by run.sh to the variant's wasm-bindgen output folder.
import init, { Floor } from "floor-glue/floor.js";

export { init, Floor };
