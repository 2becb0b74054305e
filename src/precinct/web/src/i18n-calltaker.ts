// Strings added for issue 21 (calltaker), in both languages (merged into the main dictionaries by i18n.ts;
// a browser test checks both have the same keys).

export const calltakerEn: Record<string, string> = {
  "calls.hist.title": "Caller history",
  "calls.hist.lookup": "Show this number's past calls",
  "calls.hist.needCase": "Past calls are personal data: looked up under a case with an incident linked, for incident response (audited).",
  "calls.hist.loading": "Looking up past calls…",
  "calls.hist.count": "Number {number}: {n} calls in the last {days} days",
  "calls.hist.none": "Number {number}: no calls in the last {days} days",
  "calls.hist.more": "showing the latest {shown}",
  "calls.hist.refused": "Caller history not shown: {msg}",
  "calls.hist.otherDisp": "other disposition",
  "calls.hist.otherStatus": "other status",
  // the grouped top navigation (nav.ts)
  "navg.label": "Screens",
  "navg.command": "Command",
  "navg.analysis": "Analysis",
  "navg.supervision": "Oversight",
  "navg.public": "Public",
  "navg.fraud": "Anti-fraud",
  "navg.admin": "Admin",
};

export const calltakerZh: Record<string, string> = {
  "calls.hist.title": "来电记录",
  "calls.hist.lookup": "查看该号码来电记录",
  "calls.hist.needCase": "来电记录属个人信息：须在已关联警情的案件下、以“警情处置”目的查询（留痕审计）。",
  "calls.hist.loading": "正在查询来电记录…",
  "calls.hist.count": "号码 {number}：近 {days} 天来电 {n} 次",
  "calls.hist.none": "号码 {number}：近 {days} 天无来电记录",
  "calls.hist.more": "仅显示最近 {shown} 次",
  "calls.hist.refused": "未能显示来电记录：{msg}",
  "calls.hist.otherDisp": "其他处置",
  "calls.hist.otherStatus": "其他状态",
  "navg.label": "功能导航",
  "navg.command": "指挥",
  "navg.analysis": "研判",
  "navg.supervision": "督察审计",
  "navg.public": "舆情",
  "navg.fraud": "反诈",
  "navg.admin": "管理",
};
