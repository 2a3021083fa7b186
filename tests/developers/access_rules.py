ACCESS = {
    "developers.index": "public",
    "developers.openapi": "public",
}
