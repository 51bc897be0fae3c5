"""The staff console: the panchayat office in a browser (applications, certificates, complaints,
guest houses, employees and payroll, dashboards), on the same core as the chat.

Flask renders every page on the server; the pages call the functions of `panchayat` that the
chat and the staff CLI call, so a decision made here notifies the citizen exactly as the CLI does.
`console.app.create_app` builds the app; `python -m console` serves it with waitress.
"""
