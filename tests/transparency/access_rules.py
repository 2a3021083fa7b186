ACCESS = {
    "transparency.dashboard": "public",
    "directory.index": "public",
    "directory.show": "public",
}
