// Strings of the board's scene box (acknowledgements and scene attachments, issue 19), in both
// languages (merged into the main dictionaries by i18n.ts).

export const attachmentsEn: Record<string, string> = {
  "scene.title": "From the scene",
  "scene.none": "No notes or photos yet",
  "scene.photo": "Photo from the scene",
  "scene.acked": "acknowledged {time}",
  "scene.late": "late: not acknowledged",
  "scene.waiting": "waiting for acknowledgement",
};

export const attachmentsZh: Record<string, string> = {
  "scene.title": "现场反馈",
  "scene.none": "暂无现场备注或照片",
  "scene.photo": "现场照片",
  "scene.acked": "已签收 {time}",
  "scene.late": "超时未签收",
  "scene.waiting": "等待签收",
};
