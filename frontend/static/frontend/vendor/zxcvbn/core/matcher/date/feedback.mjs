var dateMatcher = options => {
  return {
    warning: options.translations.warnings.dates,
    suggestions: [options.translations.suggestions.dates]
  };
};

export { dateMatcher as default };
//# sourceMappingURL=feedback.mjs.map
