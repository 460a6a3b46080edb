// Times of the security pages ("YYYY-MM-DD HH:MM:SS" UTC from the API).
export function fmtTime(t) {
  return t ? `${t} UTC` : '-';
}
