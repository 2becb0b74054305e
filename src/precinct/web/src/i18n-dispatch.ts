// Strings added for issue 21 (dispatch), in both languages (merged into the main dictionaries by i18n.ts;
// a browser test checks both have the same keys).

export const dispatchEn: Record<string, string> = {
  // hotlist hits on the board
  "alerts.title": "Hotlist hits",
  "alerts.none": "No hotlist hits since you logged in.",
  "alerts.unacked": "{n} not acknowledged",
  "alerts.camera": "camera",
  "alerts.ack": "Acknowledge",
  "alerts.ackedBy": "acknowledged by {who} at {at}",
  "alerts.already": "Already acknowledged by {who}",
  "alerts.earlier": "Show earlier hits (needs a case)",
  "alerts.headerCount": "Hotlist hits {n}",
  "alerts.headerTitle": "Hotlist hits nobody has acknowledged yet",
  "hotlist.stolen": "stolen vehicle",
  "hotlist.wanted": "wanted vehicle",
  "hotlist.offenders": "vehicle linked to an offender",
  // notes on an incident
  "notes.placeholder": "Add a note to the incident (text, up to 500 characters)",
  "notes.add": "Add note",
  "notes.added": "Note added",
  // time in status (units)
  "units.since": "In status",
  "units.sinceNow": "under 1 min",
  "units.sinceMin": "for {m} min",
  "units.sinceHours": "for {h} h {m} min",
};

export const dispatchZh: Record<string, string> = {
  "alerts.title": "布控预警",
  "alerts.none": "登录以来暂无布控预警。",
  "alerts.unacked": "{n} 条未确认",
  "alerts.camera": "卡口",
  "alerts.ack": "确认",
  "alerts.ackedBy": "{who} 于 {at} 确认",
  "alerts.already": "{who} 已确认过",
  "alerts.earlier": "查看更早的预警（需案件）",
  "alerts.headerCount": "布控预警 {n}",
  "alerts.headerTitle": "尚未确认的布控预警",
  "hotlist.stolen": "被盗抢车辆",
  "hotlist.wanted": "通缉车辆",
  "hotlist.offenders": "前科人员关联车辆",
  "notes.placeholder": "为警情添加备注（文字，最多 500 字）",
  "notes.add": "添加备注",
  "notes.added": "备注已添加",
  "units.since": "持续时间",
  "units.sinceNow": "不到 1 分钟",
  "units.sinceMin": "已 {m} 分钟",
  "units.sinceHours": "已 {h} 小时 {m} 分钟",
};
