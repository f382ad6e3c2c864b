import translationKeys from './data/translationKeys.mjs';
import { timeEstimationValuesDefaults } from './TimeEstimates.mjs';

const checkL33tTable = l33tTable => {
  if (typeof l33tTable !== 'object' || l33tTable === null) {
    throw new Error('l33tTable must be an object');
  }
  Object.values(l33tTable).forEach(substitutions => {
    if (!Array.isArray(substitutions)) {
      throw new Error('l33tTable substitutions must be an array');
    }
    substitutions.forEach(substitution => {
      if (typeof substitution !== 'string') {
        throw new Error('l33tTable substitutions must be strings');
      }
    });
  });
};
const checkDictionary = dictionary => {
  if (typeof dictionary !== 'object' || dictionary === null) {
    throw new Error('dictionary must be an object');
  }
  Object.values(dictionary).forEach(list => {
    if (!Array.isArray(list)) {
      throw new Error('dictionary list must be an array');
    }
    list.forEach(el => {
      if (typeof el !== 'string' && typeof el !== 'number') {
        throw new Error('dictionary entries must be strings or numbers');
      }
    });
  });
};
const checkGraphs = graphs => {
  if (typeof graphs !== 'object' || graphs === null) {
    throw new Error('graphs must be an object');
  }
  Object.values(graphs).forEach(graph => {
    if (typeof graph !== 'object' || graph === null) {
      throw new Error('graph must be an object');
    }
    Object.values(graph).forEach(adjacencies => {
      if (!Array.isArray(adjacencies)) {
        throw new Error('graph adjacencies must be an array');
      }
      adjacencies.forEach(adjacency => {
        if (typeof adjacency !== 'string' && adjacency !== null) {
          throw new Error('graph adjacency must be a string or null');
        }
      });
    });
  });
};
const checkUseLevenshteinDistance = useLevenshteinDistance => {
  if (typeof useLevenshteinDistance !== 'boolean') {
    throw new Error('useLevenshteinDistance must be a boolean');
  }
};
const checkLevenshteinThreshold = levenshteinThreshold => {
  if (typeof levenshteinThreshold !== 'number' || levenshteinThreshold < 0) {
    throw new Error('levenshteinThreshold must be a non-negative number');
  }
};
const checkL33tMaxSubstitutions = l33tMaxSubstitutions => {
  if (typeof l33tMaxSubstitutions !== 'number' || l33tMaxSubstitutions < 0) {
    throw new Error('l33tMaxSubstitutions must be a non-negative number');
  }
};
const checkMaxLength = maxLength => {
  if (typeof maxLength !== 'number' || maxLength < 0) {
    throw new Error('maxLength must be a non-negative number');
  }
};
const checkMatcher = (name, matcher) => {
  if (typeof name !== 'string') {
    throw new Error('matcher name must be a string');
  }
  if (typeof matcher !== 'object' || matcher === null) {
    throw new Error(`matcher ${name} must be an object`);
  }
  if (typeof matcher.feedback !== 'function') {
    throw new Error(`matcher ${name}.feedback must be a function`);
  }
  if (typeof matcher.scoring !== 'function') {
    throw new Error(`matcher ${name}.scoring must be a function`);
  }
  if (typeof matcher.Matching !== 'function') {
    throw new Error(`matcher ${name}.Matching must be a constructor`);
  }
};
const checkCustomMatchers = customMatchers => {
  if (typeof customMatchers !== 'object' || customMatchers === null) {
    throw new Error('customMatchers must be an object');
  }
};
const checkCustomTranslations = translations => {
  let valid = true;
  Object.keys(translationKeys).forEach(type => {
    if (type in translations) {
      const translationType = type;
      Object.keys(translationKeys[translationType]).forEach(key => {
        if (!(key in translations[translationType])) {
          valid = false;
        }
        const translation = translations[translationType][key];
        if (typeof translation !== 'string' && typeof translation !== 'function') {
          valid = false;
        }
      });
    } else {
      valid = false;
    }
  });
  return valid;
};
const checkTimeEstimationValues = timeEstimationValues => {
  if (typeof timeEstimationValues !== 'object' || timeEstimationValues === null) {
    throw new Error('timeEstimationValues must be an object');
  }
  Object.keys(timeEstimationValuesDefaults).forEach(key => {
    if (!(key in timeEstimationValues)) {
      throw new Error(`timeEstimationValues.${key} is required`);
    }
    const data = timeEstimationValues[key];
    if (typeof data !== 'object' || data === null) {
      throw new Error(`timeEstimationValues.${key} must be an object`);
    }
    Object.keys(timeEstimationValuesDefaults[key]).forEach(subKey => {
      if (!(subKey in data)) {
        throw new Error(`timeEstimationValues.${key}.${subKey} is required`);
      }
      const value = data[subKey];
      if (typeof value !== 'number') {
        throw new Error(`timeEstimationValues.${key}.${subKey} must be a number`);
      }
      if (value < timeEstimationValuesDefaults[key][subKey]) {
        throw new Error('Time estimation values are not to be allowed to be less than default');
      }
    });
  });
};

export { checkCustomMatchers, checkCustomTranslations, checkDictionary, checkGraphs, checkL33tMaxSubstitutions, checkL33tTable, checkLevenshteinThreshold, checkMatcher, checkMaxLength, checkTimeEstimationValues, checkUseLevenshteinDistance };
//# sourceMappingURL=runtimeChecks.mjs.map
