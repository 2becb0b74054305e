// Strings added for issue 21 (analyst), in both languages (merged into the main dictionaries by i18n.ts;
// a browser test checks both have the same keys).

export const analystEn: Record<string, string> = {
};

export const analystZh: Record<string, string> = {
};
