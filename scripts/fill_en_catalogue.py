"""The source strings are English, so the en catalogue is the identity: copy
every msgid into its msgstr (run by `make catalogues`)."""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PATH = Path(__file__).resolve().parent.parent / "translations/en/LC_MESSAGES/messages.po"

with PATH.open("rb") as f:
    catalog = read_po(f, locale="en")
for message in catalog:
    if not message.id:
        continue
    message.flags.discard("fuzzy")
    if isinstance(message.id, tuple | list):
        message.string = tuple(message.id)
    else:
        message.string = message.id
with PATH.open("wb") as f:
    write_po(f, catalog, width=100)
print(f"en catalogue: {len(catalog)} entries")
