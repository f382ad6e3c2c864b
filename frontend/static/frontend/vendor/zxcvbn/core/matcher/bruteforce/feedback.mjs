var bruteforceMatcher = () => {
  return null;
};

export { bruteforceMatcher as default };
//# sourceMappingURL=feedback.mjs.map
