import { SEPERATOR_CHAR_COUNT } from '../../data/const.mjs';

var separatorMatcher = () => {
  return SEPERATOR_CHAR_COUNT;
};

export { separatorMatcher as default };
//# sourceMappingURL=scoring.mjs.map
