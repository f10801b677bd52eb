# The OpenAPI test when Node.js was not found at configure time: fail, saying what to do.
message(FATAL_ERROR "openapi_conformance: Node.js was not found when the build was configured; "
                    "run `bash tools/dev.sh test`, which installs Node.js and the validators")
