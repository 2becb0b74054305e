// Who is logged in (from /auth/me).
export interface Me { username: string; role: string; unit_id?: string | null }
export const session: { me: Me | null } = { me: null };
