// Loaded with `node --require` by the check of `cargo xtask dist`: Node then reports the platform
// MUSICGPT_DIST_CHECK_PLATFORM names (`aix-ppc64`), so the check sees what the bin script says on
// a platform this machine is not. Never shipped.
"use strict";

const [platform, arch] = process.env.MUSICGPT_DIST_CHECK_PLATFORM.split("-");
Object.defineProperty(process, "platform", { value: platform });
Object.defineProperty(process, "arch", { value: arch });
