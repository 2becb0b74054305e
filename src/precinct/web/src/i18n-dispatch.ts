// Strings added for issue 21 (dispatch), in both languages (merged into the main dictionaries by i18n.ts;
// a browser test checks both have the same keys).

export const dispatchEn: Record<string, string> = {
};

export const dispatchZh: Record<string, string> = {
};
