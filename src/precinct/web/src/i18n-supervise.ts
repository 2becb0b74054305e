// Strings added for issue 21 (supervise), in both languages (merged into the main dictionaries by i18n.ts;
// a browser test checks both have the same keys).

export const superviseEn: Record<string, string> = {
};

export const superviseZh: Record<string, string> = {
};
