// Strings added for issue 21 (calltaker), in both languages (merged into the main dictionaries by i18n.ts;
// a browser test checks both have the same keys).

export const calltakerEn: Record<string, string> = {
};

export const calltakerZh: Record<string, string> = {
};
