// UI text of the patrol terminal in Simplified Chinese and English.
export type Lang = "zh" | "en";

const TEXT = {
  zh: {
    login: "登录", username: "用户名", password: "密码", logout: "退出", loginFailed: "登录失败：",
    notPatrol: "此应用仅供巡逻民警（patrol 角色）使用", online: "在线", offline: "离线",
    myDispatches: "我的警情", myOrders: "我的指令", none: "暂无", unit: "单元",
    acknowledge: "接警出发", arrive: "到达现场", clear: "处置完毕", disposition: "处置结果",
    ackOrder: "签收", acked: "已签收", deadline: "时限", waiting: "待发送（离线队列）",
    sent: "已发送", failed: "未被接受", newDispatch: "新警情！", navigate: "导航前往",
    dispRes: "已处置", dispNo: "未发现", dispRef: "移交", dispFalse: "误报",
    status: { dispatched: "已派警", acknowledged: "在途", en_route: "在途", on_scene: "在现场", cleared: "已结束" } as Record<string, string>,
    share: "值班中共享位置", priority: "优先级",
    fromScene: "现场反馈：照片与备注", photo: "拍照/选择照片", note: "备注", notePlaceholder: "现场情况（可选）",
    sendNote: "发送备注", keepLocation: "保留照片位置信息", hotlistNear: "附近布控车辆报警",
    goOffDuty: "下班（停止共享位置）", goOnDuty: "上班", offDuty: "已下班：不共享位置",
    route: "路线", minutes: "分钟",
    missing: "失踪人员（我参与的案件）", missingShow: "查看描述与照片",
    myCases: "我参与的在办案件：照片与备注",
    reminded: "督察催办",
  },
  en: {
    login: "Log in", username: "Username", password: "Password", logout: "Log out", loginFailed: "Login failed: ",
    notPatrol: "This app is for patrol officers (the patrol role)", online: "online", offline: "offline",
    myDispatches: "My dispatches", myOrders: "My orders", none: "Nothing", unit: "Unit",
    acknowledge: "Acknowledge / en route", arrive: "On scene", clear: "Cleared", disposition: "Disposition",
    ackOrder: "Acknowledge", acked: "Acknowledged", deadline: "Deadline", waiting: "Waiting to send (offline queue)",
    sent: "sent", failed: "refused", newDispatch: "New dispatch!", navigate: "Navigate",
    dispRes: "Resolved", dispNo: "Nothing found", dispRef: "Referred", dispFalse: "False alarm",
    status: { dispatched: "dispatched", acknowledged: "en route", en_route: "en route", on_scene: "on scene", cleared: "cleared" } as Record<string, string>,
    share: "Share position while on duty", priority: "Priority",
    fromScene: "From the scene: photos and notes", photo: "Take or pick a photo", note: "Note", notePlaceholder: "What you found (optional)",
    sendNote: "Send note", keepLocation: "Keep the photo's location", hotlistNear: "Hotlist vehicles near you",
    goOffDuty: "Go off duty (stop sharing position)", goOnDuty: "Go on duty", offDuty: "Off duty: position not shared",
    route: "Route", minutes: "min",
    missing: "Missing persons (my cases)", missingShow: "Show description and photo",
    myCases: "My open cases: photos and notes",
    reminded: "Reminder from the supervisor",
  },
};

export type Text = (typeof TEXT)["zh"];

let lang: Lang = (localStorage.getItem("precinct.m.lang") as Lang | null) ?? (navigator.language.startsWith("zh") ? "zh" : "en");

export function t(): Text {
  return TEXT[lang];
}

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem("precinct.m.lang", next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
}
