# The browser test when Node.js was not found at configure time: fail, saying what to do.
message(FATAL_ERROR "browser_flow: Node.js was not found when the build was configured; "
                    "run `bash tools/dev.sh test`, which installs Node.js, chromium and the driver")
