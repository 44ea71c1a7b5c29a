// nforce ships no types; the test says what it uses of it.
declare module 'nforce';
