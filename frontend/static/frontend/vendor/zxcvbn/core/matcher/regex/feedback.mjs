var regexMatcher = (options, match) => {
  if (match.regexName === 'recentYear') {
    return {
      warning: options.translations.warnings.recentYears,
      suggestions: [options.translations.suggestions.recentYears, options.translations.suggestions.associatedYears]
    };
  }
  return {
    warning: null,
    suggestions: []
  };
};

export { regexMatcher as default };
//# sourceMappingURL=feedback.mjs.map
