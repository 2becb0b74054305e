"""Cases and joint operations (合成作战): the case as the key to personal data.

A case (id issued by Precinct, optional reference from the force's own system) has a type, a
lead, members, teams (警种), scenes, linked incidents, calls and orders, notes and tasks (requests
for service between teams). A personal-data read anywhere in Precinct is allowed only under an
open case the caller works on, for a purpose its type allows (:mod:`precinct.cases.codes`);
importing this package registers that check with :mod:`precinct.core.access`.

Other domains use this one only through :mod:`precinct.cases.service`.
"""

from precinct.cases import gate as _gate

_gate.register()
