"""Command (指挥): 110 intake, incidents, units, dispatch and one-click orders, as one domain.

The path of a 110 call, module by module:

``views_intake`` (``POST /calls``) → ``intake.create_call`` (check, locate, find duplicates) →
``incidents.open_incident`` (the one place an incident is opened; CSV import in ``flows`` and EIDO
import in ``eido_import`` use it too) → ``recommend`` (available units by road time,
``nearest_available_units``) → ``dispatch`` (dispatched → en route → on scene → cleared) →
``lifecycle.close_incident``. ``orders`` issues one order to many units; ``monitors`` flags overdue
incidents and escalates overdue orders; ``board`` streams every event to the live board.

Other domains use this one only through :mod:`precinct.command.service`.
"""
