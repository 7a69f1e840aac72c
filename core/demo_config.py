"""The ``dunning.toml`` the demo writes for each sample portfolio.

It is a real config file: after the demo, ``dunning --config <folder>/dunning.toml``
shows the call list, the visit list, the evidence of any case. The mail
server and the SMS gateway it names ran only while the demo did.
"""

from __future__ import annotations

from collections.abc import Sequence

# Settings of every channel the demo may enable, as administrators would write them.
_CHANNEL_TABLES = {
    "email": '''
[channels.email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "Northwind Credit Control <credit@northwind.example>"
reply_to = "collections@northwind.example"
bcc = "collections-archive@northwind.example"
pay_link = "https://pay.northwind.example/case/{{case_id}}?ref={{key}}"
signature = """Dana Whitfield
Credit Control, Northwind Supplies Ltd
+44 117 496 0000"""
''',
    "letter": '''
[channels.letter]
sender_name = "Northwind Supplies Ltd"
sender_address = ["1 Quay Street", "Bristol BS1 4DJ", "United Kingdom"]
sender_phone = "+44 117 496 0000"
sender_email = "accounts@northwind.example"
signatory_name = "Dana Whitfield"
signatory_title = "Credit Controller"
folder = "letters"
''',
    "phone": '''
[channels.phone]
collectors = ["ana", "ben"]
company = "Northwind Credit"
callback = "+44 117 496 0000"
''',
    "sms": '''
[channels.sms]
url = "{sms_url}"
sender_id = "Northwind"
''',
    "visit": '''
[channels.visit]
company = "Northwind Supplies"
''',
    "agency": '''
[channels.agency]
folder = "agency-files"

[channels.agency.agencies.eastgate]
name = "Eastgate Collections"
commission = "25"
min_balance = "100.00"
capacity = 40
placement_days = 90

[channels.agency.agencies.harbour]
name = "Harbour Recoveries Ltd"
min_balance = "2000.00"
capacity = 10
placement_days = 90

[channels.agency.agencies.harbour.commission]
by = "recovered"
bands = [ {{ from = "0.00", percent = "30" }}, {{ from = "5000.00", percent = "20" }} ]
''',
    "legal": '''
[channels.legal]
firm_name = "Castle & Reed LLP"
firm_address = ["9 Temple Row", "Birmingham B2 5LG"]
lawyer = "Priya Raman"
''',
}


def demo_config(preset: str, enabled: Sequence[str], *, smtp_port: int, sms_url: str) -> str:
    """The config text for a portfolio on ``preset`` with these channels enabled."""
    tables = "".join(_CHANNEL_TABLES[name].format(smtp_port=smtp_port, sms_url=sms_url)
                     for name in _CHANNEL_TABLES if name in enabled)
    listed = ", ".join(f'"{name}"' for name in enabled)
    return f'''# Written by `dunning demo`: a sample portfolio on the {preset} preset.
policy = "{preset}"
db = "dunning.db"
timezone = "UTC"

[channels]
enabled = [{listed}]
{tables}
[compliance]
profile = "default"

[notify]
supervisor = "Sam Supervisor <sam@northwind.example>"
manager = "Morgan Manager <morgan@northwind.example>"
general_manager = "Gale GM <gale@northwind.example>"
'''
