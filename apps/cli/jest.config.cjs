module.exports = { preset: '@attnlab/jest-preset' };
